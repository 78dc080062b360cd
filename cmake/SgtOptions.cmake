# Flags shared by every target of the project: warnings, sanitizers, debug checks.

add_library(sgt_flags INTERFACE)
target_compile_options(sgt_flags INTERFACE
  -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual -Wundef
  $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes -Wmissing-prototypes>
  $<$<BOOL:${SGT_WERROR}>:-Werror>)
if(SGT_SANITIZE)
  target_compile_options(sgt_flags INTERFACE
    -fsanitize=${SGT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(sgt_flags INTERFACE -fsanitize=${SGT_SANITIZE})
endif()
if(SGT_SANITIZE MATCHES "fuzzer")
  target_compile_options(sgt_flags INTERFACE
    -fsanitize-coverage-ignorelist=${PROJECT_SOURCE_DIR}/fuzz/coverage-ignore.txt)
endif()
if(SGT_DEBUG_CHECKS)
  target_compile_definitions(sgt_flags INTERFACE SGT_DEBUG_CHECKS=1)
endif()
if(SGT_COVERAGE)
  target_compile_options(sgt_flags INTERFACE -fprofile-instr-generate -fcoverage-mapping)
  target_link_options(sgt_flags INTERFACE -fprofile-instr-generate)
endif()
