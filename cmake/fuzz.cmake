# The fuzz targets of tests/fuzz (README, "Fuzzing"): the option parser,
# the templates and the input combiner of src/cli. Each is built as
# fuzz_replay_NAME by any compiler (it runs the target once over each file
# of tests/fuzz/corpus/NAME: a ctest, seconds) and, with EVT_FUZZ (clang,
# `make fuzz`), as fuzz_NAME on libFuzzer.
option(EVT_FUZZ "Build the libFuzzer targets of tests/fuzz (clang)" OFF)
file(GLOB EVT_FUZZ_SRC CONFIGURE_DEPENDS tests/fuzz/fuzz_*.c)
set(EVT_FUZZ_CLI ${EVT_CLI_SRC})
list(FILTER EVT_FUZZ_CLI EXCLUDE REGEX "/src/cli/main\\.c$")
if(EVT_FUZZ_SRC AND EVT_FUZZ_CLI AND (EVT_TESTS OR EVT_FUZZ))
  add_library(evt_fuzz_cli OBJECT ${EVT_FUZZ_CLI})
  target_compile_definitions(evt_fuzz_cli PRIVATE _GNU_SOURCE)
  target_include_directories(evt_fuzz_cli PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/include
    ${CMAKE_BINARY_DIR}/include)
  if(EVT_HAVE_CURL)
    target_link_libraries(evt_fuzz_cli PRIVATE PkgConfig::CURL)
  endif()
  if(EVT_HAVE_HIREDIS)
    target_link_libraries(evt_fuzz_cli PRIVATE PkgConfig::HIREDIS)
  endif()
  # One target, linked with driver (replay.c, or libFuzzer's own main).
  function(evt_fuzz_target target src)
    add_executable(${target} ${src} ${ARGN} $<TARGET_OBJECTS:evt_fuzz_cli>
      $<TARGET_OBJECTS:eventor_obj>)
    target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
    target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src/cli
      ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_BINARY_DIR}/include)
    target_link_libraries(${target} PRIVATE Threads::Threads m ${CMAKE_DL_LIBS})
    if(EVT_HAVE_CURL)
      target_link_libraries(${target} PRIVATE PkgConfig::CURL)
    endif()
    if(EVT_HAVE_HIREDIS)
      target_link_libraries(${target} PRIVATE PkgConfig::HIREDIS)
    endif()
  endfunction()
  foreach(src ${EVT_FUZZ_SRC})
    get_filename_component(name ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" name ${name})
    if(EVT_TESTS)
      evt_fuzz_target(fuzz_replay_${name} ${src} tests/fuzz/replay.c)
      add_test(NAME fuzz_${name}_corpus COMMAND fuzz_replay_${name}
        ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/corpus/${name})
    endif()
    if(EVT_FUZZ)
      evt_fuzz_target(fuzz_${name} ${src})
      target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    endif()
  endforeach()
endif()
