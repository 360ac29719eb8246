# Helpers shared by every CMakeLists: one STATIC library per module, one gtest binary per test file.

set(L2A_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(L2A_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

if(L2A_FUZZ)
  # Coverage instrumentation for every library the fuzzers link.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# l2a_add_module(NAME SOURCES ... DEPS ...) -> target l2a_NAME, include root src/
function(l2a_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(l2a_${name} STATIC ${ARG_SOURCES})
  target_include_directories(l2a_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(l2a_${name} PRIVATE ${L2A_WARNINGS})
  target_link_libraries(l2a_${name} PUBLIC ${ARG_DEPS})
endfunction()

# l2a_add_test(NAME SOURCES ... DEPS ...) -> gtest binary registered with ctest (label "unit")
function(l2a_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_options(${name} PRIVATE ${L2A_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
