# ctest driver: every way a downstream project consumes sgt.
# - installed into a scratch prefix: find_package(sgt) (sgt::core static and shared, and
#   sgt::simiommu) and pkg-config (sgt, sgt-simiommu);
# - vendored: add_subdirectory() and FetchContent from a local path, which must build the
#   libraries and no tests;
# - installed the way a distribution does it, with absolute CMAKE_INSTALL_LIBDIR and
#   CMAKE_INSTALL_INCLUDEDIR (Fedora's %cmake): the .pc files must point at them.
# The last two configure sgt from scratch, so they run in unsanitised builds only.
cmake_minimum_required(VERSION 3.25)
set(prefix ${SGT_WORK_DIR}/prefix)
file(REMOVE_RECURSE ${SGT_WORK_DIR})
# An instrumented libsgt needs the sanitizer runtime in whatever links it.
set(san_flags "")
if(SGT_SANITIZE)
  set(san_flags -fsanitize=${SGT_SANITIZE})
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} --install ${SGT_BUILD_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${SGT_CONSUMER_SRC} -B ${SGT_WORK_DIR}/build -G ${CMAKE_GENERATOR}
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
    "-DCMAKE_C_FLAGS=${san_flags}" "-DCMAKE_EXE_LINKER_FLAGS=${san_flags}")
run(${CMAKE_COMMAND} --build ${SGT_WORK_DIR}/build)
run(${SGT_WORK_DIR}/build/consumer_static)
run(${SGT_WORK_DIR}/build/consumer_sim)
set(ENV{LD_LIBRARY_PATH} ${prefix}/${SGT_LIBDIR})
run(${SGT_WORK_DIR}/build/consumer_shared)

# pkg-config: the .pc file must give working flags on its own.
set(ENV{PKG_CONFIG_PATH} ${prefix}/${SGT_LIBDIR}/pkgconfig)
execute_process(COMMAND pkg-config --cflags --libs sgt OUTPUT_VARIABLE flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know sgt")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CMAKE_C_COMPILER} ${san_flags} ${SGT_CONSUMER_SRC}/main.c ${flags} -o ${SGT_WORK_DIR}/consumer_pc)
run(${SGT_WORK_DIR}/consumer_pc)

function(pkg_build name pc src)
  execute_process(COMMAND pkg-config --cflags --libs ${pc} OUTPUT_VARIABLE flags
                  RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config does not know ${pc}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CMAKE_C_COMPILER} ${san_flags} ${src} ${flags} -o ${SGT_WORK_DIR}/${name})
  run(${SGT_WORK_DIR}/${name})
endfunction()
pkg_build(consumer_pc_sim sgt-simiommu ${SGT_CONSUMER_SRC}/sim_main.c)

if(SGT_SANITIZE)
  return()
endif()
get_filename_component(sgt_source ${SGT_CONSUMER_SRC}/../.. ABSOLUTE)
foreach(via subdirectory fetchcontent)
  set(dir ${SGT_WORK_DIR}/${via})
  run(${CMAKE_COMMAND} -S ${SGT_CONSUMER_SRC}/subproject -B ${dir} -G ${CMAKE_GENERATOR}
      -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DSGT_SOURCE=${sgt_source} -DSGT_VIA=${via})
  run(${CMAKE_COMMAND} --build ${dir} --target parent_core parent_sim)
  run(${dir}/parent_core)
  run(${dir}/parent_sim)
endforeach()

set(distro ${SGT_WORK_DIR}/distro-root)
run(${CMAKE_COMMAND} -S ${sgt_source} -B ${SGT_WORK_DIR}/distro-build -G ${CMAKE_GENERATOR}
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_INSTALL_PREFIX=${distro}
    -DCMAKE_INSTALL_LIBDIR=${distro}/lib64 -DCMAKE_INSTALL_INCLUDEDIR=${distro}/include)
run(${CMAKE_COMMAND} --build ${SGT_WORK_DIR}/distro-build)
run(${CMAKE_COMMAND} --install ${SGT_WORK_DIR}/distro-build)
set(ENV{PKG_CONFIG_PATH} ${distro}/lib64/pkgconfig)
foreach(var libdir includedir)
  execute_process(COMMAND pkg-config --variable=${var} sgt OUTPUT_VARIABLE got
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(want ${distro}/lib64)
  if(var STREQUAL "includedir")
    set(want ${distro}/include)
  endif()
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "absolute ${var}: the .pc file says '${got}', want '${want}'")
  endif()
endforeach()
set(ENV{LD_LIBRARY_PATH} ${distro}/lib64)
pkg_build(consumer_distro sgt ${SGT_CONSUMER_SRC}/main.c)
pkg_build(consumer_distro_sim sgt-simiommu ${SGT_CONSUMER_SRC}/sim_main.c)
message(STATUS "consumers: find_package, pkg-config, add_subdirectory, FetchContent, absolute dirs")
