# ctest driver: install sgt into a scratch prefix, then build and run consumers against it with
# find_package(sgt) (static and shared) and with pkg-config.
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
