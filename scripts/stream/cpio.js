// cpio.js: writes a "newc" cpio archive (the initramfs format) from a list of
// entries, so building the guest's initramfs needs neither cpio nor root
// (device nodes are described, not created).
'use strict';

const MODE = { dir: 0o040000, file: 0o100000, link: 0o120000, char: 0o020000 };

function header(fields, name) {
  const hex = (v) => (v >>> 0).toString(16).padStart(8, '0');
  const nameBytes = Buffer.from(name + '\0');
  const h = Buffer.from(
    '070701' +
      [fields.ino, fields.mode, 0, 0, fields.nlink, 0, fields.size, 0, 0, fields.rmajor ?? 0, fields.rminor ?? 0, nameBytes.length, 0]
        .map(hex)
        .join(''),
  );
  return pad(Buffer.concat([h, nameBytes]));
}

function pad(b) {
  const extra = (4 - (b.length % 4)) % 4;
  return extra ? Buffer.concat([b, Buffer.alloc(extra)]) : b;
}

/**
 * entries: { name, type: 'dir'|'file'|'link'|'char', perm, data?, target?, major?, minor? }
 * Returns the archive as a Buffer.
 */
function cpio(entries) {
  const parts = [];
  let ino = 1;
  for (const e of entries) {
    const data = e.type === 'file' ? e.data : e.type === 'link' ? Buffer.from(e.target) : Buffer.alloc(0);
    parts.push(
      header(
        { ino: ino++, mode: MODE[e.type] | e.perm, nlink: e.type === 'dir' ? 2 : 1, size: data.length, rmajor: e.major, rminor: e.minor },
        e.name,
      ),
      pad(data),
    );
  }
  parts.push(header({ ino: 0, mode: 0, nlink: 1, size: 0 }, 'TRAILER!!!'));
  return Buffer.concat(parts);
}

module.exports = { cpio };
