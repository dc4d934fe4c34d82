# Install rules, the CMake package (torsion::torsion) and torsion.pc.
# Only when Torsion is the top-level project: a parent that pulls it in with add_subdirectory or
# FetchContent installs its own things.
if(PROJECT_IS_TOP_LEVEL)
  include(GNUInstallDirs)
  include(CMakePackageConfigHelpers)

  set(TORSION_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/torsion"
      CACHE STRING "Where torsionConfig.cmake is installed, relative to the prefix")
  mark_as_advanced(TORSION_INSTALL_CMAKEDIR)

  # torsion links torsion_liburing, a plain INTERFACE target wrapping PkgConfig::LIBURING, so it is
  # exported too (as torsion::torsion_liburing); torsionConfig.cmake recreates PkgConfig::LIBURING,
  # Boost::headers and Threads::Threads before loading the exported targets.
  #
  # src/CMakeLists.txt gives torsion $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>, but that
  # variable only exists once GNUInstallDirs has been included: on a fresh configure where that
  # happens after add_subdirectory(src), it expands to nothing and the exported target would have
  # no include directory. Then add it here (INCLUDES DESTINATION) instead.
  get_target_property(_torsion_incdirs torsion INTERFACE_INCLUDE_DIRECTORIES)
  set(_torsion_includes_arg)
  if(NOT "${_torsion_incdirs}" MATCHES "\\$<INSTALL_INTERFACE:[^>]")
    set(_torsion_includes_arg INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
  install(TARGETS torsion torsion_liburing
    EXPORT torsionTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    ${_torsion_includes_arg})

  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/torsion
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")

  install(EXPORT torsionTargets
    NAMESPACE torsion::
    FILE torsionTargets.cmake
    DESTINATION ${TORSION_INSTALL_CMAKEDIR})

  configure_package_config_file(
    ${CMAKE_CURRENT_LIST_DIR}/torsionConfig.cmake.in
    ${PROJECT_BINARY_DIR}/torsionConfig.cmake
    INSTALL_DESTINATION ${TORSION_INSTALL_CMAKEDIR})
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/torsionConfigVersion.cmake
    VERSION ${PROJECT_VERSION}
    COMPATIBILITY SameMajorVersion)
  install(FILES
    ${PROJECT_BINARY_DIR}/torsionConfig.cmake
    ${PROJECT_BINARY_DIR}/torsionConfigVersion.cmake
    DESTINATION ${TORSION_INSTALL_CMAKEDIR})

  # torsion.pc is relocatable: its prefix is computed from where the file itself is installed
  # (${pcfiledir}), so `cmake --install --prefix <anywhere>` yields a working file.
  set(TORSION_PC_INSTALLDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(TORSION_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
    set(TORSION_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
    set(TORSION_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
  else()
    file(RELATIVE_PATH _torsion_pc_up "/root/${TORSION_PC_INSTALLDIR}" "/root")
    string(REGEX REPLACE "/$" "" _torsion_pc_up "${_torsion_pc_up}")
    set(TORSION_PC_PREFIX "\${pcfiledir}/${_torsion_pc_up}")
    set(TORSION_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
    set(TORSION_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  configure_file(${CMAKE_CURRENT_LIST_DIR}/torsion.pc.in ${PROJECT_BINARY_DIR}/torsion.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/torsion.pc DESTINATION ${TORSION_PC_INSTALLDIR})
endif()
