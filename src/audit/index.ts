// The audit surface: every `jzse` command is a thin layer over these functions, which take plain
// options and return data (or async iterables of it), so a gRPC AuditService can expose them too.
export { AuditContext, auditConfig, type ConnectionOverrides, type StreamAccess } from './context.js';
export { AuditError, EXIT } from './errors.js';
export { digestOf, entriesOfView, readEtcdEntries, readViewFile, summarize, viewOfEntries, writeViewFile, type Entries, type ViewSummary } from './entries.js';
export { diffEntries, loadSource, parseSource, describeSource, SOURCE_FORMS, type RecordDiff, type ViewSource, type LoadedView } from './diff.js';
export { foldTo, type FoldOptions, type Progress } from './fold.js';
export { fileHistory, type FileHistory, type HistoryEntry } from './history.js';
export { parsePoint, parseSeq, parseTime, resolvePoint, seqAtTime, describePoint, type Point } from './points.js';
export { rebuild, repairLive, takeSnapshot, electionCandidates, defaultRebuildPrefix, type RebuildSummary, type RepairSummary, type SnapshotSummary } from './rebuild.js';
export { planReplay, replay, recordOf, createMatcher, checkTypes, REPLAY_TYPES, type ReplayFilter, type ReplayRecord } from './replay.js';
export { listSnapshots, loadSnapshot, nearestSnapshot, type SnapshotInfo } from './snapshots.js';
export { status, type Status, type RegionHealth } from './status.js';
export { verifyLive, type VerifyResult } from './verify.js';
