// The name the live kernel goes by where an implementation's name is
// expected: a campaign's --impl, a finding, a replay token. It is no module
// and no bundled implementation, so nothing loads it; the lane runs it.
// Kept apart from lane.ts so that code which only needs to recognise the
// name (a campaign worker, the watchdog's host) loads nothing of the lane.

export const KERNEL_IMPL = 'kernel';
