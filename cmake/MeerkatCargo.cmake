# MeerkatCargo.cmake: build the `meerkat` crate's static library with cargo from CMake.
#
# Used by the root CMakeLists.txt (host builds, add_subdirectory and install) and by the
# ESP-IDF component glue in cmake/esp-idf/. No ExternalProject, no Corrosion: one custom
# target that runs `cargo build --lib` on every build. Cargo decides what is stale, so a build
# with nothing to do costs well under a second, and libmeerkat.a keeps its timestamp (which
# is what decides whether C targets relink).
#
#   meerkat_cargo_build(<custom-target>
#       MANIFEST_DIR <dir>          crate root (holds Cargo.toml)
#       TARGET_DIR <dir>            cargo's target dir (--target-dir)
#       PROFILE <name>              cargo profile: dev, release or a custom one
#       [RUST_TARGET <triple>]      cross-compile for this target; empty: the host
#       [NO_DEFAULT_FEATURES]       --no-default-features
#       [FEATURES <f>...]           --features (a list, or comma/space separated strings)
#       [CARGO_ARGS <arg>...]       more arguments for `cargo build` (--locked, -Zbuild-std=...)
#       [ENV <VAR=value>...]        environment for cargo (RUSTUP_TOOLCHAIN=esp, CC_<triple>=...)
#       OUTPUT_VARIABLE <var>)      set to the full path of the static library cargo writes
#
# Needs the cache variable MEERKAT_CARGO (the cargo executable); meerkat_find_cargo() sets it.

include_guard(GLOBAL)

# Find cargo: the MEERKAT_CARGO cache variable if set, else PATH, $CARGO_HOME/bin, ~/.cargo/bin.
function(meerkat_find_cargo)
  if(MEERKAT_CARGO)
    return()
  endif()
  set(_hints)
  if(DEFINED ENV{CARGO_HOME})
    list(APPEND _hints "$ENV{CARGO_HOME}/bin")
  endif()
  if(DEFINED ENV{HOME})
    list(APPEND _hints "$ENV{HOME}/.cargo/bin")
  endif()
  find_program(MEERKAT_CARGO cargo HINTS ${_hints} DOC "cargo executable used to build libmeerkat.a")
  if(NOT MEERKAT_CARGO)
    message(FATAL_ERROR
      "meerkat: cargo not found. Install the Rust toolchain (https://rustup.rs) or pass "
      "-DMEERKAT_CARGO=/path/to/cargo.")
  endif()
endfunction()

# The directory name cargo uses for a profile's output: dev/test -> debug, release/bench ->
# release, a custom profile -> its own name.
function(meerkat_cargo_profile_dir out profile)
  if(profile STREQUAL "dev" OR profile STREQUAL "test")
    set(${out} debug PARENT_SCOPE)
  elseif(profile STREQUAL "bench")
    set(${out} release PARENT_SCOPE)
  else()
    set(${out} "${profile}" PARENT_SCOPE)
  endif()
endfunction()

function(meerkat_cargo_build name)
  cmake_parse_arguments(PARSE_ARGV 1 arg
    "NO_DEFAULT_FEATURES"
    "MANIFEST_DIR;TARGET_DIR;PROFILE;RUST_TARGET;OUTPUT_VARIABLE"
    "FEATURES;CARGO_ARGS;ENV")
  foreach(required MANIFEST_DIR TARGET_DIR PROFILE OUTPUT_VARIABLE)
    if(NOT arg_${required})
      message(FATAL_ERROR "meerkat_cargo_build(${name}): ${required} is required")
    endif()
  endforeach()
  if(NOT MEERKAT_CARGO)
    meerkat_find_cargo()
  endif()

  meerkat_cargo_profile_dir(profile_dir "${arg_PROFILE}")
  set(out_dir "${arg_TARGET_DIR}")
  if(arg_RUST_TARGET)
    string(APPEND out_dir "/${arg_RUST_TARGET}")
  endif()
  # Cargo names the staticlib like the platform's C toolchain does: libmeerkat.a on Unix-like
  # targets (and MinGW), meerkat.lib for MSVC.
  set(lib "${out_dir}/${profile_dir}/${CMAKE_STATIC_LIBRARY_PREFIX}meerkat${CMAKE_STATIC_LIBRARY_SUFFIX}")

  set(cmd "${MEERKAT_CARGO}" build --lib
      --manifest-path "${arg_MANIFEST_DIR}/Cargo.toml"
      --target-dir "${arg_TARGET_DIR}"
      --profile "${arg_PROFILE}")
  if(arg_RUST_TARGET)
    list(APPEND cmd --target "${arg_RUST_TARGET}")
  endif()
  if(arg_NO_DEFAULT_FEATURES)
    list(APPEND cmd --no-default-features)
  endif()
  # Accept "a;b", "a,b" and "a b" alike.
  string(REPLACE "," ";" features "${arg_FEATURES}")
  string(REPLACE " " ";" features "${features}")
  list(REMOVE_ITEM features "")
  if(features)
    list(JOIN features "," features)
    list(APPEND cmd --features "${features}")
  endif()
  list(APPEND cmd ${arg_CARGO_ARGS})

  set(what "profile ${arg_PROFILE}")
  if(arg_RUST_TARGET)
    string(APPEND what ", target ${arg_RUST_TARGET}")
  endif()

  add_custom_target(${name} ALL
    COMMAND "${CMAKE_COMMAND}" -E env ${arg_ENV} ${cmd}
    WORKING_DIRECTORY "${arg_MANIFEST_DIR}"
    BYPRODUCTS "${lib}"
    COMMENT "meerkat: cargo build (${what}) -> ${lib}"
    USES_TERMINAL
    VERBATIM)
  set(${arg_OUTPUT_VARIABLE} "${lib}" PARENT_SCOPE)
endfunction()
