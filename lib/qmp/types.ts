// qmp/types.ts: the replies of the QMP commands this project uses, as QEMU
// documents them (qapi/migration.json). Fields QEMU may omit are optional.

export interface QmpGreeting {
  QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export type MigrationStatus =
  | 'none'
  | 'setup'
  | 'cancelling'
  | 'cancelled'
  | 'active'
  | 'postcopy-active'
  | 'postcopy-paused'
  | 'postcopy-recover'
  | 'completed'
  | 'failed'
  | 'colo'
  | 'pre-switchover'
  | 'device'
  | 'wait-unplug';

export interface MigrationRamStats {
  transferred: number;
  remaining: number;
  total: number;
  duplicate: number;
  normal: number;
  'normal-bytes': number;
  'dirty-pages-rate': number;
  mbps: number;
  'dirty-sync-count': number;
  'postcopy-requests'?: number;
  'page-size': number;
  'multifd-bytes'?: number;
  'pages-per-second'?: number;
  'precopy-bytes'?: number;
  'downtime-bytes'?: number;
  'postcopy-bytes'?: number;
}

/** docs/FORMAT.md §3, "Statistics". */
export interface XbzrleCacheStats {
  'cache-size': number;
  bytes: number;
  pages: number;
  'cache-miss': number;
  'cache-miss-rate': number;
  'encoding-rate': number;
  overflow: number;
}

export interface MigrationInfo {
  status?: MigrationStatus;
  ram?: MigrationRamStats;
  'xbzrle-cache'?: XbzrleCacheStats;
  'total-time'?: number;
  'expected-downtime'?: number;
  downtime?: number;
  'setup-time'?: number;
  'error-desc'?: string;
}

export interface MigrationParameters {
  'xbzrle-cache-size'?: number;
  'max-bandwidth'?: number;
  'downtime-limit'?: number;
  [name: string]: unknown;
}

export interface MigrationCapabilityStatus {
  capability: string;
  state: boolean;
}

export interface DirtyRateInfo {
  'dirty-rate'?: number;
  status: 'unstarted' | 'measuring' | 'measured';
  'start-time': number;
  'calc-time': number;
  'sample-pages': number;
  mode?: string;
}

/** Commands with typed arguments and replies; any other name returns unknown. */
export interface QmpCommands {
  qmp_capabilities: { args: { enable?: string[] }; ret: Record<string, never> };
  'query-status': { args: undefined; ret: { running: boolean; status: string; singlestep?: boolean } };
  'query-migrate': { args: undefined; ret: MigrationInfo };
  'query-migrate-parameters': { args: undefined; ret: MigrationParameters };
  'query-migrate-capabilities': { args: undefined; ret: MigrationCapabilityStatus[] };
  'migrate-set-capabilities': { args: { capabilities: MigrationCapabilityStatus[] }; ret: Record<string, never> };
  'migrate-set-parameters': { args: MigrationParameters; ret: Record<string, never> };
  migrate: { args: { uri: string; blk?: boolean; inc?: boolean; detach?: boolean; resume?: boolean }; ret: Record<string, never> };
  'migrate-incoming': { args: { uri: string }; ret: Record<string, never> };
  migrate_cancel: { args: undefined; ret: Record<string, never> };
  'calc-dirty-rate': { args: { 'calc-time': number; 'sample-pages'?: number; mode?: string }; ret: Record<string, never> };
  'query-dirty-rate': { args: undefined; ret: DirtyRateInfo };
  'query-memory-size-summary': { args: undefined; ret: { 'base-memory': number; 'plugged-memory'?: number } };
  stop: { args: undefined; ret: Record<string, never> };
  cont: { args: undefined; ret: Record<string, never> };
  quit: { args: undefined; ret: Record<string, never> };
  pmemsave: { args: { val: number; size: number; filename: string; 'cpu-index'?: number }; ret: Record<string, never> };
  'human-monitor-command': { args: { 'command-line': string; 'cpu-index'?: number }; ret: string };
}
