{
  "targets": [
    {
      "target_name": "xbzrle",
      "sources": [
        "native/addon.cc",
        "native/batch.cc",
        "native/batch_job.cc",
        "native/cpu.cc",
        "native/decode.cc",
        "native/dispatch.cc",
        "native/encode_avx2.cc",
        "native/encode_avx512.cc",
        "native/encode_neon.cc",
        "native/encode_portable.cc",
        "native/encode_sse2.cc",
        "native/page_cache.cc",
        "native/sender.cc"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-Wall", "-Wextra"],
      "cflags_cc!": ["-O2"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "3",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "Optimization": 2, "AdditionalOptions": ["/std:c++17"] }
      }
    }
  ]
}
