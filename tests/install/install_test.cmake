# Driven by tests/install/CMakeLists.txt: cmake -DBUILD_DIR=... -P install_test.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR INSTALL_LIBDIR CXX_COMPILER GENERATOR PKG_CONFIG)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "install_test.cmake: ${var} is not set")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-cmake)
set(pc_exe ${WORK_DIR}/consumer-pkg-config)

# Run a command; stop the test with its output when it fails.
function(step name)
  string(JOIN " " cmd ${ARGN})
  message(STATUS "[install test] ${name}: ${cmd}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[install test] ${name} failed (${rc}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# 1. Install the build tree into the scratch prefix.
set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${config_args})

foreach(f include/torsion/io/proactor.hpp ${INSTALL_LIBDIR}/cmake/torsion/torsionConfig.cmake
          ${INSTALL_LIBDIR}/cmake/torsion/torsionConfigVersion.cmake ${INSTALL_LIBDIR}/pkgconfig/torsion.pc)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "[install test] ${f} was not installed under ${prefix}")
  endif()
endforeach()

# 2. The consumer project, with find_package(torsion).
set(make_args)
if(MAKE_PROGRAM)
  set(make_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
step("configure consumer" ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer_build} -G ${GENERATOR} ${make_args}
     -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
# It must have found the package just installed, not some other copy.
file(STRINGS ${consumer_build}/CMakeCache.txt found_dir REGEX "^torsion_DIR:")
string(REGEX REPLACE "^torsion_DIR:[A-Z]+=" "" found_dir "${found_dir}")
file(REAL_PATH "${found_dir}" found_dir)
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${found_dir}" "${real_prefix}/" pos)
if(NOT pos EQUAL 0)
  message(FATAL_ERROR "[install test] consumer found torsion in '${found_dir}', not under ${prefix}")
endif()
step("build consumer" ${CMAKE_COMMAND} --build ${consumer_build})
step("run consumer (find_package)" ${consumer_build}/torsion_consumer)
message(STATUS "${step_output}")

# 3. The same source, compiled with the flags from torsion.pc.
step("pkg-config" ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/${INSTALL_LIBDIR}/pkgconfig
     ${PKG_CONFIG} --cflags --libs torsion)
string(STRIP "${step_output}" pc_flags)
message(STATUS "[install test] pkg-config --cflags --libs torsion: ${pc_flags}")
if(NOT pc_flags MATCHES "-std=c\\+\\+20" OR NOT pc_flags MATCHES "-ltorsion" OR NOT pc_flags MATCHES "-luring")
  message(FATAL_ERROR "[install test] unexpected flags from torsion.pc: ${pc_flags}")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
step("compile consumer with pkg-config flags" ${CXX_COMPILER} -O1 -o ${pc_exe} ${CONSUMER_DIR}/main.cpp ${pc_flags})
step("run consumer (pkg-config)" ${pc_exe})
message(STATUS "${step_output}")

message(STATUS "[install test] passed")
