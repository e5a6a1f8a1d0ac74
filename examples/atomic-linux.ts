// A minimal third-party implementation: today's Linux behaviour written as
// one atomic step per op, over its own small model of sockets. Check it with
//   npx savedsyn check --impl ./examples/atomic-linux.ts
// It shows the interface, not a kernel: it reuses the bundled spec world.

import { createSpec, type Implementation } from 'savedsyn';

const implementation: Implementation = {
  name: 'atomic-linux',
  profile: 'linux',
  description: 'the linux spec itself, run as an implementation',
  create(env) {
    const world = createSpec(env.profile);
    return {
      run: (op) => world.apply(op),
      view: () => world.view(),
      // Everything it answers from: verify merges the states it reaches.
      state: () => world,
    };
  },
};

export default implementation;
