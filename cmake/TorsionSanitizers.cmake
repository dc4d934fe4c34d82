# Applied globally so that tests, examples and the library agree on the runtime.
if(TORSION_SANITIZE)
  add_compile_options(-fsanitize=${TORSION_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  # clang 14's UBSan function-type check cannot handle coroutine frames ("Cannot represent a
  # difference across sections", llvm issue 49689).
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND TORSION_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize=function)
  endif()
  add_link_options(-fsanitize=${TORSION_SANITIZE})
  # The coroutine frame pool would hide use-after-free of frames from ASan.
  add_compile_definitions(TORSION_NO_FRAME_POOL=1)
endif()
