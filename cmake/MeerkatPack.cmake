# meerkat_pack(): turn a web root into a C source for mg_fs_packed at build time, with
# scripts/pack.py (Python 3), as Mongoose's `pack` is used. The source is regenerated when
# a file under DIRECTORY changes (files added or removed are seen at the next configure).
#
#   meerkat_pack(OUTPUT <file.c> DIRECTORY <dir> [STRIP <prefix>] [PREFIX <prefix>] [GZIP])
#   target_sources(app PRIVATE <file.c>)      # then in C: mg_mem_files = mg_packed_files;
#
# Names in the packed file system are "/" + the path below DIRECTORY (PREFIX in front when
# given; STRIP is removed from the front of the path instead when given). GZIP stores each
# file gzip-compressed as NAME.gz.

# A cache variable: the function is called from other directory scopes than this one.
get_filename_component(_meerkat_pack_py "${CMAKE_CURRENT_LIST_DIR}/../scripts/pack.py" ABSOLUTE)
set(_MEERKAT_PACK_PY "${_meerkat_pack_py}" CACHE INTERNAL "scripts/pack.py of meerkat")

function(meerkat_pack)
  cmake_parse_arguments(P "GZIP" "OUTPUT;DIRECTORY;STRIP;PREFIX" "" ${ARGN})
  if(NOT P_OUTPUT OR NOT P_DIRECTORY)
    message(FATAL_ERROR "meerkat_pack: OUTPUT and DIRECTORY are required")
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  get_filename_component(dir "${P_DIRECTORY}" ABSOLUTE)
  if(NOT IS_ABSOLUTE "${P_OUTPUT}")
    set(P_OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/${P_OUTPUT}")
  endif()
  file(GLOB_RECURSE files CONFIGURE_DEPENDS "${dir}/*")
  set(strip "${dir}/")
  if(DEFINED P_STRIP)
    set(strip "${P_STRIP}")
  endif()
  set(args -s "${strip}")
  if(P_PREFIX)
    list(APPEND args -p "${P_PREFIX}")
  endif()
  if(P_GZIP)
    list(APPEND args -z)
  endif()
  add_custom_command(
    OUTPUT "${P_OUTPUT}"
    COMMAND Python3::Interpreter "${_MEERKAT_PACK_PY}" ${args} -o "${P_OUTPUT}" "${dir}"
    DEPENDS ${files} "${_MEERKAT_PACK_PY}"
    COMMENT "meerkat_pack: ${dir} -> ${P_OUTPUT}"
    VERBATIM)
endfunction()
