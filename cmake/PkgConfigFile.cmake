# SPDX-License-Identifier: MIT
# pcmup_install_pkgconfig(<template> <name> <destination>)
#
# Installs the pkg-config file configured from <template> as
# <destination>/<name>. Everything but the prefix is filled in at configure
# time; the prefix is filled in when installing, so that
# `cmake --install build --prefix DIR` writes a .pc that points into DIR.
# Directories given relative to the prefix are written as ${prefix}/...,
# absolute ones (-DCMAKE_INSTALL_LIBDIR=/abs) are kept as they are.
function(pcmup_install_pkgconfig template name destination)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(PCMUP_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
  else()
    set(PCMUP_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(PCMUP_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
  else()
    set(PCMUP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  # Left as a placeholder for the install-time pass (configure_file does not
  # substitute recursively, so this writes the literal text back).
  set(PCMUP_PC_PREFIX "@PCMUP_PC_PREFIX@")

  set(stage ${PROJECT_BINARY_DIR}/pkgconfig)
  configure_file(${template} ${stage}/${name}.in @ONLY)
  install(CODE "
    get_filename_component(PCMUP_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\" ABSOLUTE)
    configure_file(\"${stage}/${name}.in\" \"${stage}/${name}\" @ONLY)
  " COMPONENT dev)
  install(FILES ${stage}/${name} DESTINATION ${destination} COMPONENT dev)
endfunction()
