// The ES module face in TypeScript (module nodenext): the default import is
// the whole namespace, typed by dist/index.d.mts.
import xbzrle, { encode, type NativeStatus } from 'xbzrle';

const status: NativeStatus = xbzrle.nativeStatus();
if (xbzrle.encode !== encode) throw new Error('default-import.mts: the default export differs');
console.log(JSON.stringify({ face: 'ts-default', native: xbzrle.native, source: status.source }));
