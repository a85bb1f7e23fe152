// govern/index.ts: the Governor and the cost model of a QEMU XBZRLE cache.
export { Governor, type GovernorOptions, type MigrateOptions, type Decision, type Progress, type VmReport, type VmStatus } from './governor';
export { cacheCost, largestCacheWithin } from './cost';
