# The hook layer (src/hook): its own shared library, libeventor-hook, on top
# of the shared libeventor (the hooks must share the program's runtime: see
# README "Hooks"), its pkg-config file, and its tests, which link both.
file(GLOB EVT_HOOK_SRC CONFIGURE_DEPENDS src/hook/*.c)
add_library(eventor_hook SHARED ${EVT_HOOK_SRC})
set_target_properties(eventor_hook PROPERTIES OUTPUT_NAME eventor-hook
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cmake/eventor-hook.map)
target_include_directories(eventor_hook PRIVATE include)
target_compile_definitions(eventor_hook PRIVATE
  EVT__SOVERSION="${PROJECT_VERSION_MAJOR}")
target_link_options(eventor_hook PRIVATE
  -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/cmake/eventor-hook.map)
target_link_libraries(eventor_hook PUBLIC eventor_shared PRIVATE ${CMAKE_DL_LIBS})
# A program that calls no evt_hook_* must still load the hooks.
target_link_options(eventor_hook INTERFACE "LINKER:--no-as-needed")

install(TARGETS eventor_hook EXPORT eventorTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
configure_file(cmake/eventor-hook.pc.in ${CMAKE_BINARY_DIR}/eventor-hook.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/eventor-hook.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

pkg_check_modules(EVT_HOOK_CURL IMPORTED_TARGET libcurl)
pkg_check_modules(EVT_HOOK_HIREDIS IMPORTED_TARGET hiredis)
pkg_check_modules(EVT_HOOK_PQ IMPORTED_TARGET libpq)

# The test server of the libcurl proofs, also where benchmarks are off.
add_executable(hook_http_server bench/bench_http_server.c)
target_compile_definitions(hook_http_server PRIVATE _GNU_SOURCE)
target_link_libraries(hook_http_server PRIVATE eventor)

if(EVT_BENCH)
  add_executable(bench_hook bench/hook/bench_hook.c)
  target_link_libraries(bench_hook PRIVATE eventor_hook eventor_shared ${CMAKE_DL_LIBS})
  set_target_properties(bench_hook PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  if(EVT_HOOK_CURL_FOUND)
    # bench_http with plain curl_easy_perform through the hooks.
    add_executable(bench_hook_http bench/bench_http.c)
    target_include_directories(bench_hook_http PRIVATE src)
    target_compile_definitions(bench_hook_http PRIVATE _GNU_SOURCE BENCH_EASY_HOOKS)
    target_link_libraries(bench_hook_http PRIVATE eventor_hook eventor_shared PkgConfig::EVT_HOOK_CURL)
    set_target_properties(bench_hook_http PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  endif()
  if(EVT_HOOK_PQ_FOUND)
    add_executable(bench_hook_pq bench/hook/bench_hook_pq.c)
    target_link_libraries(bench_hook_pq PRIVATE eventor_hook eventor_shared PkgConfig::EVT_HOOK_PQ Threads::Threads)
    set_target_properties(bench_hook_pq PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  endif()
endif()

if(EVT_TESTS)
  file(GLOB EVT_HOOK_TESTS CONFIGURE_DEPENDS tests/hook/test_*.c)
  foreach(src ${EVT_HOOK_TESTS})
    get_filename_component(name ${src} NAME_WE)
    # A proof against a real library needs that library: test_hook_curl
    # libcurl, test_hook_redis hiredis, test_hook_pq libpq.
    set(libs "")
    foreach(dep curl:CURL:libcurl redis:HIREDIS:hiredis pq:PQ:libpq)
      string(REPLACE ":" ";" dep "${dep}")
      list(GET dep 0 suffix)
      list(GET dep 1 var)
      list(GET dep 2 pkg)
      if(name STREQUAL "test_hook_${suffix}")
        set(libs PkgConfig::EVT_HOOK_${var})
        if(NOT EVT_HOOK_${var}_FOUND)
          set(libs MISSING)
          message(WARNING "${pkg} not found: ${name} is not built (scripts/install-deps.sh)")
        endif()
      endif()
    endforeach()
    if(libs STREQUAL "MISSING")
      continue()
    endif()
    add_executable(${name} ${src})
    target_include_directories(${name} PRIVATE src)
    target_compile_definitions(${name} PRIVATE _GNU_SOURCE
      EVT_HTTP_SERVER="$<TARGET_FILE:hook_http_server>")
    target_link_libraries(${name} PRIVATE eventor_hook eventor_shared ${libs}
      ${EVT_TEST_LIB})
    add_test(NAME ${name} COMMAND ${name} --jobs 1)
    set_tests_properties(${name} PROPERTIES TIMEOUT 120
      FAIL_REGULAR_EXPRESSION "ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:")
  endforeach()
endif()

# The static runtime beside the hooks: they must turn themselves off.
if(EVT_TESTS)
  add_executable(hook_static_copy tests/hook/static_copy.c)
  target_link_libraries(hook_static_copy PRIVATE eventor_hook eventor)
  add_test(NAME hook_static_copy COMMAND sh -c
    "out=$(\"$1\" 2>&1) && printf '%s\\n' \"$out\" | grep -q 'hooks are off' && printf '%s\\n' \"$out\" | grep -qx libc"
    sh $<TARGET_FILE:hook_static_copy>)
  set_tests_properties(hook_static_copy PROPERTIES TIMEOUT 30)
endif()

# Examples made concurrent by the hooks alone link them, and the shared
# runtime.
if(EVT_HOOK_CURL_FOUND AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/examples/monkey_crawler.c)
  add_executable(example_monkey_crawler examples/monkey_crawler.c)
  set_target_properties(example_monkey_crawler PROPERTIES OUTPUT_NAME monkey_crawler
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/examples)
  target_link_libraries(example_monkey_crawler PRIVATE eventor_hook eventor_shared
    PkgConfig::EVT_HOOK_CURL)
  if(EVT_TESTS)
    add_test(NAME example_monkey_crawler COMMAND sh
      ${CMAKE_CURRENT_SOURCE_DIR}/tests/hook/monkey_crawler.sh
      $<TARGET_FILE:example_monkey_crawler> $<TARGET_FILE:hook_http_server>)
    set_tests_properties(example_monkey_crawler PROPERTIES TIMEOUT 60)
    # The same program linked without the hooks, given them by LD_PRELOAD
    # (sanitizer runtimes must come first: not under them).
    if(NOT EVT_SANITIZE AND NOT EVT_TSAN)
      add_executable(monkey_crawler_plain examples/monkey_crawler.c)
      target_link_libraries(monkey_crawler_plain PRIVATE eventor_shared
        PkgConfig::EVT_HOOK_CURL)
      add_test(NAME example_monkey_crawler_preload COMMAND sh
        ${CMAKE_CURRENT_SOURCE_DIR}/tests/hook/monkey_crawler.sh
        $<TARGET_FILE:monkey_crawler_plain> $<TARGET_FILE:hook_http_server>)
      set_tests_properties(example_monkey_crawler_preload PROPERTIES TIMEOUT 60
        ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:eventor_hook>")
    endif()
  endif()
endif()
