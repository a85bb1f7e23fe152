// ram-image.ts: the receiver's view of guest RAM, rebuilt by applying each RAM
// record in stream order, as the destination QEMU does.
import { decodeInto } from '../codec/page';
import { XbzrleError } from '../util/errors';
import { StreamError } from './errors';
import type { RamBlock, RamEvent } from './events';
import type { PageStore } from './page-store';

/** What applying one record did; the buffers are reused by the next apply(). */
export interface Applied {
  /** The page before the record. */
  before: Buffer;
  /** The page after it. */
  after: Buffer;
  /** Whether an earlier record had already sent this page. */
  sentBefore: boolean;
}

export class RamImage {
  private readonly blocks = new Map<string, RamBlock>();
  /**
   * Per block, the indexes of the pages some record has sent: sparse, so
   * the cost follows the records read, not the sizes a stream declares.
   */
  private readonly sent = new Map<string, Set<number>>();
  private readonly before: Buffer;
  private readonly after: Buffer;

  constructor(
    readonly store: PageStore,
    readonly pageSize: number,
  ) {
    this.before = Buffer.alloc(pageSize);
    this.after = Buffer.alloc(pageSize);
  }

  addBlocks(blocks: RamBlock[]): void {
    for (const b of blocks) {
      this.blocks.set(b.name, b);
      if (!this.sent.has(b.name)) this.sent.set(b.name, new Set());
      this.store.addBlock(b);
    }
  }

  blockList(): RamBlock[] {
    return [...this.blocks.values()];
  }

  /**
   * Applies a record. A delta the decoder rejects throws a StreamError at the
   * delta's bad byte, and leaves the page as it was.
   */
  apply(ev: RamEvent): Applied {
    const block = this.blocks.get(ev.block)!;
    const { before, after } = this;
    this.store.read(block, ev.addr, before);
    switch (ev.kind) {
      case 'zero':
        after.fill(ev.fill);
        break;
      case 'page':
      case 'compressed-page':
        ev.data.copy(after);
        break;
      case 'xbzrle':
        before.copy(after);
        try {
          decodeInto(ev.delta, after);
        } catch (err) {
          if (!(err instanceof XbzrleError)) throw err;
          throw new StreamError('bad-xbzrle', ev.deltaOffset + err.offset, `XBZRLE record for ${ev.block} ${hexAddr(ev.addr)}: ${err.message}`);
        }
        break;
    }
    this.store.write(block, ev.addr, after);
    const marks = this.sent.get(ev.block)!;
    const i = ev.addr / this.pageSize;
    const sentBefore = marks.has(i);
    marks.add(i);
    return { before, after, sentBefore };
  }

  /** Pages of a block that some record sent. */
  pagesSent(name: string): number {
    return this.sent.get(name)?.size ?? 0;
  }
}

export function hexAddr(addr: number): string {
  return `0x${addr.toString(16)}`;
}
