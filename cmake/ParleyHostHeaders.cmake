# Header-only host libraries (nlohmann/json, RapidJSON, Catch2 v2) for both builds.
#
# Native: the Debian packages' CMake configs (or plain /usr/include).
# Emscripten: a small include dir in the build tree that holds only symlinks to
# /usr/include/nlohmann and /usr/include/catch2. Never add -isystem /usr/include to
# a wasm build (it pulls in glibc headers), and find_package() cannot see /usr under
# the Emscripten toolchain (the search is confined to the sysroot).
#
# Provides two INTERFACE targets:
#   parley::json    -> nlohmann/json.hpp and rapidjson/ (the wire decoder's fast parser)
#   parley::catch2  -> catch2/catch.hpp

set(PARLEY_HOST_INCLUDE_ROOT "/usr/include" CACHE PATH
    "Where the host's nlohmann/ and catch2/ header directories live")

add_library(parley_json INTERFACE)
add_library(parley::json ALIAS parley_json)
add_library(parley_catch2 INTERFACE)
add_library(parley::catch2 ALIAS parley_catch2)

if(EMSCRIPTEN)
  set(_hostinc "${CMAKE_BINARY_DIR}/hostinc")
  file(MAKE_DIRECTORY "${_hostinc}")
  foreach(_lib nlohmann rapidjson catch2)
    set(_src "${PARLEY_HOST_INCLUDE_ROOT}/${_lib}")
    set(_dst "${_hostinc}/${_lib}")
    if(NOT EXISTS "${_src}")
      if(_lib STREQUAL "nlohmann")
        message(FATAL_ERROR "${_src} not found: apt-get install nlohmann-json3-dev")
      endif()
      if(_lib STREQUAL "rapidjson")
        message(FATAL_ERROR "${_src} not found: apt-get install rapidjson-dev")
      endif()
      message(STATUS "parley: ${_src} not found; wasm Catch2 tests unavailable")
      continue()
    endif()
    if(NOT EXISTS "${_dst}")
      file(CREATE_LINK "${_src}" "${_dst}" SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(parley_json SYSTEM INTERFACE "${_hostinc}")
  target_include_directories(parley_catch2 SYSTEM INTERFACE "${_hostinc}")
  set(PARLEY_HAVE_CATCH2 FALSE)
  if(EXISTS "${_hostinc}/catch2/catch.hpp")
    set(PARLEY_HAVE_CATCH2 TRUE)
  endif()
else()
  find_package(nlohmann_json 3 REQUIRED)
  target_link_libraries(parley_json INTERFACE nlohmann_json::nlohmann_json)
  if(NOT EXISTS "${PARLEY_HOST_INCLUDE_ROOT}/rapidjson/document.h")
    message(FATAL_ERROR "rapidjson not found: apt-get install rapidjson-dev")
  endif()

  find_package(Catch2 2 QUIET)
  set(PARLEY_HAVE_CATCH2 FALSE)
  if(TARGET Catch2::Catch2)
    target_link_libraries(parley_catch2 INTERFACE Catch2::Catch2)
    set(PARLEY_HAVE_CATCH2 TRUE)
  elseif(EXISTS "${PARLEY_HOST_INCLUDE_ROOT}/catch2/catch.hpp")
    set(PARLEY_HAVE_CATCH2 TRUE)  # on the default include path already
  endif()
endif()
