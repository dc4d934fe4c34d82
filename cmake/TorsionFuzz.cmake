# Fuzz targets (tests/fuzz/). Every build makes a replay program per target that runs the target's
# seed corpus (tests/fuzz/corpus/<name>/) as the ctest "fuzz-replay: <name>", so the seeds are
# regression tests under every compiler and sanitizer. With TORSION_BUILD_FUZZERS (clang only; the
# fuzz preset) each target is also built as a libFuzzer program, fuzz_<name>, run by .ci/fuzz.
option(TORSION_BUILD_FUZZERS "Build the libFuzzer programs (clang; use the fuzz preset)" OFF)

if(TORSION_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "TORSION_BUILD_FUZZERS needs clang (libFuzzer); use the fuzz preset")
  endif()
  if(NOT TORSION_SANITIZE MATCHES "address")
    message(FATAL_ERROR "TORSION_BUILD_FUZZERS needs TORSION_SANITIZE=address,undefined; use the fuzz preset")
  endif()
  # Coverage feedback from the library's own code, not only from the fuzz targets.
  target_compile_options(torsion PRIVATE -fsanitize=fuzzer-no-link)
  add_custom_target(fuzzers)
endif()

# torsion_add_fuzz_target(<name> <source>...): the sources define LLVMFuzzerTestOneInput.
function(torsion_add_fuzz_target name)
  set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name})
  if(NOT IS_DIRECTORY ${corpus})
    message(FATAL_ERROR "fuzz target ${name} has no seed corpus in ${corpus}")
  endif()

  add_executable(fuzz_replay_${name} ${ARGN} ${CMAKE_CURRENT_SOURCE_DIR}/replay_main.cpp)
  target_link_libraries(fuzz_replay_${name} PRIVATE torsion::torsion)
  torsion_set_warnings(fuzz_replay_${name})
  add_test(NAME "fuzz-replay: ${name}" COMMAND fuzz_replay_${name} ${corpus})
  set_tests_properties("fuzz-replay: ${name}" PROPERTIES TIMEOUT 60 LABELS fuzz)

  if(TORSION_BUILD_FUZZERS)
    add_executable(fuzz_${name} ${ARGN})
    target_link_libraries(fuzz_${name} PRIVATE torsion::torsion)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    torsion_set_warnings(fuzz_${name})
    add_dependencies(fuzzers fuzz_${name})
  endif()
endfunction()
