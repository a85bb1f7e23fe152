// qmp/errors.ts: QmpError lives in the one error module; re-exported here.
export { QmpError, type QmpReason } from '../util/errors';
