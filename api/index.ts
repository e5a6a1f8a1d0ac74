// savedsyn as a library: a thin surface over the harness, as the `savedsyn`
// command uses it. Check an implementation, replay a token, run a campaign,
// generate the op sequences of a profile; and the types a third-party
// implementation is written against.

import type fc from 'fast-check';
import { opsArb } from '../fuzz/arbitraries.ts';
import { concurrentArb, type GeneratedConcurrent } from '../fuzz/concurrent-cases.ts';
import { profileByName, type Profile, type ProfileName } from '../model/profile.ts';
import type { Op } from '../model/ops.ts';
import type { SchedulerName } from '../properties/findings.ts';

export { check, type CheckOptions } from './check.ts';
export { replay, type ReplayOptions, type ReplayResult } from './replay.ts';
export { verify, type VerifyOptions, type VerifyProgress, type VerifyResult } from './verify.ts';
export type { AlphabetKind, VerifyBounds } from '../fuzz/verify/alphabet.ts';
export { campaign, type CampaignOptions } from './campaign.ts';
export { mergeCampaigns as merge, type MergeOptions, type MergeSummary } from '../fuzz/campaign/merge.ts';
export { writeDashboard } from '../fuzz/campaign/dashboard-folder.ts';
export type { CampaignSummary, CoverageFigures } from '../fuzz/campaign/run.ts';
export type { CheckResult, FindingRecord, RaceRecord } from '../reports/summary.ts';
export { renderJson, renderMarkdown } from '../reports/summary.ts';
export { renderReportMarkdown } from '../reports/markdown.ts';
export { renderReportHtml } from '../reports/html.ts';
export type { FailureReport, Severity } from '../reports/failure.ts';
export { decodeToken, encodeToken, TokenError, type ReplayCase } from '../reports/token.ts';
export { runLockstep, type RunResult, type StepRecord, type Failure } from '../properties/lockstep.ts';
export { runConcurrent, replay as followSchedule, type ConcurrentCase, type ConcurrentResult, type ThreadSpec, type ThreadKind } from '../properties/concurrent.ts';
export type { SchedulerName } from '../properties/findings.ts';

export type { Implementation, ImplEnv, ImplInstance, FdView, OpRun, Yield, Blocked, Site } from '../model/impl/types.ts';
export { loadImplementation, validateImplementation } from '../model/impl/load.ts';
export { BUNDLED as bundledImplementations, bundledByName } from '../model/impl/registry.ts';
export { createSpec, SpecWorld } from '../model/spec/index.ts';
export { Ledger, type LedgerEvent } from '../model/ledger.ts';
export { LINUX, RFC_V1, PROFILE_NAMES, profileByName, type Profile, type ProfileName } from '../model/profile.ts';
export { TCP_SAVE_SYN, TCP_SAVED_SYN, TCP_SAVED_SYN_RFC, type Op, type Outcome } from '../model/ops.ts';
export { DEFAULT_PACKET, buildSyn, parseSyn, type PacketDescriptor } from '../model/packet.ts';
export { UserError } from '../model/user-error.ts';
export { InterfaceError } from '../model/impl/contract.ts';

function profileOf(p: Profile | ProfileName): Profile {
  const profile = typeof p === 'string' ? profileByName(p) : p;
  if (profile === undefined) throw new TypeError(`no profile '${String(p)}'`);
  return profile;
}

/** The single-thread cases savedsyn generates for a profile: listeners,
 * connection lives and random ops, mostly shaped like use. */
export function opsArbitrary(profile: Profile | ProfileName, options: { maxOps?: number } = {}): fc.Arbitrary<Op[]> {
  return opsArb(profileOf(profile), options.maxOps ?? 30);
}

/** Concurrent cases for a profile: a setup and two to four threads, with the
 * scheduler and its seed that pick the interleaving. */
export function concurrentArbitrary(profile: Profile | ProfileName, options: { schedulers?: SchedulerName[] } = {}): fc.Arbitrary<GeneratedConcurrent> {
  return concurrentArb(profileOf(profile), options.schedulers ?? ['random', 'pct']);
}
export type { GeneratedConcurrent } from '../fuzz/concurrent-cases.ts';
