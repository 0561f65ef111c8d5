/**
 * @module fileranges
 * Opening and closing a gap at the start of a file without moving its
 * bytes: fallocate(2) with FALLOC_FL_INSERT_RANGE and COLLAPSE_RANGE
 * (Linux; ext4 and XFS), called through libc with bun:ffi. The file system
 * shifts the file's extents, so a gigabyte gets a header in front of it in
 * a few milliseconds instead of being copied. Where that cannot be done
 * (another file system, another libc, a length that is not a multiple of
 * the block size) an insert throws `RangesUnsupported` and the file is as
 * it was; the caller copies instead.
 */
import { dlopen, FFIType, read } from "bun:ffi";

const FALLOC_FL_COLLAPSE_RANGE = 0x08;
const FALLOC_FL_INSERT_RANGE = 0x20;

/** An insert was not done, and the file is as it was: this file system (or platform) cannot, or it failed this once (`never` tells). */
export class RangesUnsupported extends Error {
  override name = "RangesUnsupported";
  constructor(message: string, readonly errno: number) {
    super(message);
  }
  /** The file system (or platform) never can, as against a passing failure (ENOSPC, EIO): its other files need not be tried. */
  get never(): boolean {
    return [-1, 22 /* EINVAL: block size */, 38 /* ENOSYS */, 95 /* EOPNOTSUPP */].includes(this.errno);
  }
}

type Libc = {
  fallocate(fd: number, mode: number, offset: bigint, length: bigint): number;
  syncFileRange(fd: number, offset: number, length: number, flags: number): number;
  errno(): number;
};

let libc: Libc | null | undefined;

function load(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const lib = dlopen("libc.so.6", {
      fallocate: { args: [FFIType.i32, FFIType.i32, FFIType.i64, FFIType.i64], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
      sync_file_range: { args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.u32], returns: FFIType.i32 },
    });
    libc = {
      fallocate: (fd, mode, offset, length) => lib.symbols.fallocate(fd, mode, offset, length),
      errno: () => read.i32(lib.symbols.__errno_location()!, 0),
      syncFileRange: (fd, offset, length, flags) => lib.symbols.sync_file_range(fd, offset, length, flags),
    };
  } catch {
    libc = null;
  }
  return libc;
}

/** fallocate(2) on `fd` over [0, length); returns errno, or 0 when done. */
function fallocate(fd: number, mode: number, length: number): number {
  const c = load();
  if (!c) return -1;
  return c.fallocate(fd, mode, 0n, BigInt(length)) === 0 ? 0 : c.errno();
}

/**
 * Inserts `length` bytes (a hole, read as zeros) at the start of the open
 * file `fd`, shifting its contents up. `length` must be a multiple of the
 * file system's block size and the file longer than zero bytes. Dirty
 * pages of the file are written out first by the kernel: sync the file
 * before (off the main thread) so that this call finds little to write.
 */
export function insertAtStart(fd: number, length: number): void {
  // A failed insert changes nothing (EOPNOTSUPP on another file system, EINVAL for a length
  // off the block size, ENOSPC for the extent tree...): whatever errno says, the caller copies.
  const errno = fallocate(fd, FALLOC_FL_INSERT_RANGE, length);
  if (errno === -1) throw new RangesUnsupported("fallocate(2) is not reachable through libc here", errno);
  if (errno !== 0) throw new RangesUnsupported(`cannot insert a range at the start of the file here (fallocate errno ${errno})`, errno);
}

const SYNC_FILE_RANGE_WRITE = 2;

/**
 * Asks the kernel to start writing [offset, offset + length) of `fd` to disk
 * now, without waiting (sync_file_range(2) SYNC_FILE_RANGE_WRITE): the disk
 * works while more is made, and the final fsync finds less to do. It
 * guarantees nothing (the fsync does); best effort, errors ignored.
 */
export function startWriteback(fd: number, offset: number, length: number): void {
  load()?.syncFileRange(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

/** Removes the first `length` bytes of the open file `fd` (the inverse of `insertAtStart`). */
export function collapseAtStart(fd: number, length: number): void {
  const errno = fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, length);
  if (errno !== 0) throw new Error(`cannot remove the first ${length} bytes of the file (fallocate errno ${errno})`);
}
