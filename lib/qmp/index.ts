// qmp/index.ts: the QMP client and its types.
export { QmpClient, type QmpConnectOptions, type QmpExecuteOptions } from './client';
export { QmpError, type QmpReason } from './errors';
export type * from './types';
