# kernel-sources.sh: the one list of the native core's sources (no Node).
# binding.gyp, the native tests, the fuzz build, the native bench and outside
# harnesses all take it from here. Sourced with $root set to the repository;
# sets $srcs (absolute paths) and $core_dir (for -I).
core_dir="$root/native/core"
srcs=""
for f in cpu.cc dispatch.cc decode.cc encode_portable.cc \
  kernels/encode_sse2.cc kernels/encode_avx2.cc kernels/encode_avx512.cc kernels/encode_neon.cc \
  batch.cc batch_job.cc page_cache.cc sender.cc; do
  srcs="$srcs $core_dir/$f"
done
