# SPDX-License-Identifier: MIT
# Packaging.cmake -- Debian packages with CPack (docs/packaging.md).
#
# In a build configured for them,
#
#   cmake -S . -B build-deb -DCMAKE_INSTALL_PREFIX=/usr -DPCMUP_DEBIAN_PACKAGES=ON \
#         -DPCMUP_BUILD_STATIC=ON
#   cmake --build build-deb && (cd build-deb && cpack -G DEB)
#
# makes three packages from the install components:
#   libpcmup1      runtime  the shared library (its SONAME's number)
#   libpcmup-dev   dev      header, .so link, static library, pkg-config and
#                           CMake files, libpcmup(3), the docs
#   pcmup-tools    tools    pcmup-train, -sweep, -coord, -plot and their pages
# with Debian's names and layout: the multiarch library directory (which
# GNUInstallDirs picks for the prefix /usr), dependencies from
# dpkg-shlibdeps, a shlibs file, stripped binaries, gzipped manual pages,
# and a copyright file and changelog in each package's
# /usr/share/doc/<package>/.

option(PCMUP_DEBIAN_PACKAGES
  "Lay the install out for Debian packages (cpack -G DEB): no run path, gzipped pages, per-package copyright and changelog"
  OFF)

set(PCMUP_DEB_RUNTIME libpcmup${PCMUP_ABI_VERSION})
set(PCMUP_DEB_DEV libpcmup-dev)
set(PCMUP_DEB_TOOLS pcmup-tools)
set(PCMUP_DEB_MAINTAINER "The libpcmup authors <libpcmup@users.noreply.github.com>")

# Installs a manual page of `section` in `component`; gzipped (-9n, no
# time stamp) for the packages, as Debian's policy asks.
function(pcmup_install_man page section component)
  set(dest ${CMAKE_INSTALL_MANDIR}/man${section})
  if(NOT PCMUP_DEBIAN_PACKAGES)
    install(FILES ${page} DESTINATION ${dest} COMPONENT ${component})
    return()
  endif()
  get_filename_component(name ${page} NAME)
  set(gz ${PROJECT_BINARY_DIR}/man-gz/${name}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man-gz
    COMMAND gzip -9n -c ${page} > ${gz}
    DEPENDS ${page}
    COMMENT "Compressing ${name}")
  add_custom_target(man_gz_${name} ALL DEPENDS ${gz})
  install(FILES ${gz} DESTINATION ${dest} COMPONENT ${component})
endfunction()

if(NOT PCMUP_DEBIAN_PACKAGES)
  return()
endif()

# Each package's /usr/share/doc/<package>/: the license as `copyright`,
# and a Debian changelog pointing at CHANGELOG.md (dated by the release,
# not the build, so that two builds give the same package).
set(PCMUP_DEB_DATE "Wed, 02 Dec 2026 00:00:00 +0000")
foreach(pair "runtime;${PCMUP_DEB_RUNTIME}" "dev;${PCMUP_DEB_DEV}" "tools;${PCMUP_DEB_TOOLS}")
  list(GET pair 0 component)
  list(GET pair 1 package)
  set(dir ${PROJECT_BINARY_DIR}/debian-doc/${package})
  file(MAKE_DIRECTORY ${dir})
  file(READ ${PROJECT_SOURCE_DIR}/LICENSE license)
  file(WRITE ${dir}/copyright
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    "Upstream-Name: libpcmup\n\n"
    "Files: *\nCopyright: 2026 The libpcmup authors\nLicense: MIT\n")
  string(REGEX REPLACE "\n\n" "\n.\n" license_body "${license}")
  string(REGEX REPLACE "\n([^\n])" "\n \\1" license_body "${license_body}")
  file(APPEND ${dir}/copyright " ${license_body}")
  file(WRITE ${dir}/changelog.Debian
    "libpcmup (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
    "  * libpcmup ${PROJECT_VERSION}, packaged with CPack; the changes are in\n"
    "    /usr/share/doc/libpcmup/CHANGELOG.md.\n\n"
    " -- ${PCMUP_DEB_MAINTAINER}  ${PCMUP_DEB_DATE}\n")
  execute_process(COMMAND gzip -9n -f ${dir}/changelog.Debian)
  install(FILES ${dir}/copyright ${dir}/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package} COMPONENT ${component})
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev tools)
set(CPACK_PACKAGE_NAME libpcmup)
# Each component's description starts with its own synopsis line; an
# empty summary keeps CPack from putting the project's before it.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The libpcmup authors")
set(CPACK_PACKAGE_CONTACT ${PCMUP_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${PCMUP_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/libpcmup/libpcmup")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# A shlibs file and ldconfig triggers for the library's package.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# dpkg-shlibdeps finds libpcmup.so.1 of the tools in the build tree; the
# tools' dependency on libpcmup1 is stated below (a package of the same
# build has no shlibs file installed yet to give it).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${PCMUP_DEB_RUNTIME})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# ldconfig runs by trigger, as lintian asks of a shared library's package.
file(WRITE ${PROJECT_BINARY_DIR}/debian-control/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/debian-control/triggers)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
"local learning rules in the infinite-width parameterization
libpcmup trains multilayer and convolutional networks with backpropagation
and local learning rules (predictive coding, target propagation,
difference target propagation, the Gauss-Newton target) under the
standard and the maximal update parameterization, so that learning rates
tuned on a narrow network transfer to a wide one.
.
This package holds the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME ${PCMUP_DEB_DEV})
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "${PCMUP_DEB_RUNTIME} (= ${PROJECT_VERSION}-1), libopenblas-dev, zlib1g-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
"local learning rules in the infinite-width parameterization (development)
libpcmup trains networks with backpropagation and local learning rules
under the standard and the maximal update parameterization.
.
This package holds the header, the static library, the pkg-config and
CMake files, libpcmup(3) and the documentation.")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME ${PCMUP_DEB_TOOLS})
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION science)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "${PCMUP_DEB_RUNTIME} (= ${PROJECT_VERSION}-1)")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
"command-line tools of libpcmup
pcmup-train trains a network on FashionMNIST or CIFAR-10 with a learning
rule and parameterization of libpcmup; pcmup-sweep sweeps learning rates
across widths (muTransfer), pcmup-coord runs coordinate checks and update
alignment, and pcmup-plot draws their results as SVG figures.")

include(CPack)
