# Installation, run once every library exists: headers, the core (static and shared), the IOVA
# allocator and the simulated IOMMU that downstream driver projects test against, one CMake
# package (find_package(sgt): sgt::core, sgt::core_shared, sgt::iova, sgt::simiommu) and one
# pkg-config file per library.
include(CMakePackageConfigHelpers)

set(sgt_install_targets sgt_static sgt_shared)
install(DIRECTORY core/include/sgt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(backend iova simiommu vfio)
  if(TARGET sgt_${backend})
    list(APPEND sgt_install_targets sgt_${backend})
    install(DIRECTORY backends/${backend}/include/sgt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
endforeach()
install(TARGETS ${sgt_install_targets} EXPORT sgtTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT sgtTargets NAMESPACE sgt:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sgt)
configure_package_config_file(cmake/sgtConfig.cmake.in ${PROJECT_BINARY_DIR}/sgtConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sgt)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sgtConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sgtConfig.cmake ${PROJECT_BINARY_DIR}/sgtConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sgt)

# pkg-config. Relocatable (paths relative to the .pc file) when the install dirs are relative;
# a distribution that passes absolute ones (Fedora's %cmake: CMAKE_INSTALL_LIBDIR=/usr/lib64)
# gets those paths as they are.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SGT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(SGT_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH to_prefix /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
  set(SGT_PC_PREFIX "\${pcfiledir}/${to_prefix}")
  set(SGT_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SGT_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SGT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(sgt_pc_files sgt)
if(TARGET sgt_simiommu)
  list(APPEND sgt_pc_files sgt-iova sgt-simiommu)
endif()
foreach(pc ${sgt_pc_files})
  configure_file(cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
