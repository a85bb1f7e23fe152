// Writes small synthetic migration streams for the reader's tests, following
// the layout seen in QEMU's streams (see lib/stream/constants.ts).
import * as zlib from 'node:zlib';

export interface BlockSpec {
  name: string;
  length: number;
  addr?: number;
}

export class StreamBuilder {
  private readonly parts: Buffer[] = [];
  private length = 0;

  /** Offset of the next byte written. */
  get offset(): number {
    return this.length;
  }

  raw(b: Uint8Array | number[]): this {
    const buf = Buffer.from(b);
    this.parts.push(buf);
    this.length += buf.length;
    return this;
  }

  u8(v: number): this {
    return this.raw([v]);
  }

  be16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.raw(b);
  }

  be32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.raw(b);
  }

  be64(v: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    return this.raw(b);
  }

  str8(s: string): this {
    return this.u8(s.length).raw(Buffer.from(s, 'latin1'));
  }

  header(version = 3): this {
    return this.raw(Buffer.from('QEVM')).be32(version);
  }

  configuration(machine: string, subsections: { name: string; body: Buffer }[] = []): this {
    this.u8(0x07).be32(machine.length).raw(Buffer.from(machine));
    for (const s of subsections) this.u8(0x05).str8(s.name).be32(1).raw(s.body);
    return this;
  }

  static capabilities(names: string[]): { name: string; body: Buffer } {
    const b = new StreamBuilder().be32(names.length);
    for (const n of names) b.str8(n);
    return { name: 'configuration/capabilities', body: b.build() };
  }

  start(id: number, name: string, type = 0x01, instance = 0, version = 4): this {
    return this.u8(type).be32(id).str8(name).be32(instance).be32(version);
  }

  part(id: number, type = 0x02): this {
    return this.u8(type).be32(id);
  }

  footer(id: number): this {
    return this.u8(0x7e).be32(id);
  }

  memSize(blocks: BlockSpec[], withAddr = false, total?: number): this {
    this.be64(BigInt(total ?? blocks.reduce((s, b) => s + b.length, 0)) | 0x04n);
    for (const b of blocks) {
      this.str8(b.name).be64(b.length);
      if (withAddr) this.be64(b.addr ?? 0);
    }
    return this;
  }

  /** The address word and, unless block is null (CONTINUE), the block name. */
  private page(flags: number, block: string | null, addr: number): this {
    this.be64(BigInt(addr) | BigInt(flags | (block === null ? 0x20 : 0)));
    if (block !== null) this.str8(block);
    return this;
  }

  zero(block: string | null, addr: number, fill = 0): this {
    return this.page(0x02, block, addr).u8(fill);
  }

  full(block: string | null, addr: number, data: Uint8Array): this {
    return this.page(0x08, block, addr).raw(data);
  }

  xbzrle(block: string | null, addr: number, delta: Uint8Array | number[], encoding = 0x01): this {
    return this.page(0x40, block, addr).u8(encoding).be16(delta.length).raw(delta);
  }

  compressed(block: string | null, addr: number, data: Uint8Array): this {
    const z = zlib.deflateSync(data);
    return this.page(0x100, block, addr).be32(z.length).raw(z);
  }

  flags(v: number): this {
    return this.be64(v);
  }

  eos(): this {
    return this.be64(0x10);
  }

  command(cmd: number, data: Uint8Array): this {
    return this.u8(0x08).be16(cmd).be16(data.length).raw(data);
  }

  eof(): this {
    return this.u8(0x00);
  }

  vmdesc(json: unknown): this {
    const b = Buffer.from(JSON.stringify(json));
    return this.u8(0x06).be32(b.length).raw(b);
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}
