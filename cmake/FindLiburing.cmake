# liburing ships a pkg-config file but no CMake package; wrap it in an imported target.
pkg_check_modules(LIBURING REQUIRED IMPORTED_TARGET liburing>=2.3)
if(NOT TARGET torsion_liburing)
  add_library(torsion_liburing INTERFACE)
  target_link_libraries(torsion_liburing INTERFACE PkgConfig::LIBURING)
endif()
