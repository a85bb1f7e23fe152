# kernel-sources.sh: the codec core's sources (no Node), one list for the
# standalone test, the arm64 test and the native benchmark. Sourced with
# $root set to the repository; sets $srcs.
srcs=""
for f in cpu.cc decode.cc dispatch.cc encode_portable.cc encode_sse2.cc encode_avx2.cc encode_avx512.cc encode_neon.cc; do
  srcs="$srcs $root/native/$f"
done
