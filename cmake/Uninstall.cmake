# SPDX-License-Identifier: MIT
# Uninstall.cmake -- the `uninstall` target's script: removes every file
# the last `cmake --install` of this build tree wrote, as listed in its
# install_manifest.txt, then the directories that removal left empty
# (never a directory that holds anything else).
#
#   cmake -P Uninstall.cmake with -DMANIFEST=<build>/install_manifest.txt
if(NOT EXISTS "${MANIFEST}")
  message(FATAL_ERROR "nothing to uninstall: ${MANIFEST} does not exist "
                      "(run cmake --install first)")
endif()
file(STRINGS "${MANIFEST}" _files)
set(_dirs)
foreach(_file IN LISTS _files)
  if(IS_SYMLINK "${_file}" OR EXISTS "${_file}")
    message(STATUS "Removing ${_file}")
    file(REMOVE "${_file}")
    if(IS_SYMLINK "${_file}" OR EXISTS "${_file}")
      message(FATAL_ERROR "cannot remove ${_file}")
    endif()
  else()
    message(STATUS "Not there: ${_file}")
  endif()
  get_filename_component(_dir "${_file}" DIRECTORY)
  list(APPEND _dirs "${_dir}")
endforeach()
# Deepest first, so a parent is looked at after its children.
list(REMOVE_DUPLICATES _dirs)
list(SORT _dirs ORDER DESCENDING)
foreach(_dir IN LISTS _dirs)
  while(IS_DIRECTORY "${_dir}")
    file(GLOB _left "${_dir}/*" "${_dir}/.*")
    if(_left)
      break()
    endif()
    message(STATUS "Removing empty directory ${_dir}")
    file(REMOVE_RECURSE "${_dir}")
    get_filename_component(_dir "${_dir}" DIRECTORY)
  endwhile()
endforeach()
