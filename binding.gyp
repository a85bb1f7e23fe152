{
  "targets": [
    {
      "target_name": "xbzrle",
      "sources": [
        "native/addon/glue.cc",
        "native/addon/codec.cc",
        "native/addon/jobs.cc",
        "native/addon/cache.cc",
        "native/addon/init.cc",
        "<!@(sh -c 'root=. && . native/core/kernel-sources.sh && echo $srcs')"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
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
