# ONNXFORGE_GLIBC_FLOOR: an addon built here loads on glibc 2.28 (the oldest Node 20 runs on),
# whatever glibc the build machine has. It needs:
#  - libstdc++ linked statically (no GLIBCXX_ needs on the user's machine), its symbols kept
#    private; libgcc stays shared: its static unwinder calls _dl_find_object (glibc 2.35);
#  - the libc calls whose newest version is above 2.28 sent to an older version: the __wrap_NAME
#    functions of native/compat/glibc_floor.cc, each linked with -Wl,--wrap=NAME;
#  - libpthread, libdl and librt as NEEDED, where those calls lived before glibc 2.34.
# scripts/prebuild.js reads the built addon's version needs and refuses one above the floor.
set(ONNXFORGE_GLIBC_FLOOR_VERSION 2.28)

function(onnxforge_glibc_floor_supported result)
  include(CheckCXXSymbolExists)
  check_cxx_symbol_exists(__GLIBC__ "features.h" ONNXFORGE_HAVE_GLIBC)
  if(ONNXFORGE_HAVE_GLIBC AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|aarch64|arm64)$")
    set(${result} ON PARENT_SCOPE)
  else()
    set(${result} OFF PARENT_SCOPE)
  endif()
endfunction()

function(onnxforge_apply_glibc_floor)
  set(compat ${CMAKE_CURRENT_SOURCE_DIR}/native/compat/glibc_floor.cc)
  # The --wrap list is read from that file: a pin added there reconfigures the build.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${compat})
  file(STRINGS ${compat} wrapped REGEX "ONNXFORGE_PIN(_AT)?\\([A-Za-z_0-9]+|__wrap_[A-Za-z_0-9]+\\(")
  set(wrap_options)
  list(FILTER wrapped EXCLUDE REGEX "#define")
  foreach(line ${wrapped})
    string(REGEX MATCH "(ONNXFORGE_PIN(_AT)?\\(|__wrap_)([A-Za-z_0-9]+)" wrapped_name "${line}")
    list(APPEND wrap_options "LINKER:--wrap=${CMAKE_MATCH_3}")
  endforeach()
  foreach(addon ${ARGN})
    target_sources(${addon} PRIVATE ${compat})
    target_link_options(${addon} PRIVATE -static-libstdc++ "LINKER:--exclude-libs,ALL" ${wrap_options}
      "LINKER:--push-state,--no-as-needed" -l:libpthread.so.0 -l:libdl.so.2 -l:librt.so.1 "LINKER:--pop-state")
  endforeach()
endfunction()
