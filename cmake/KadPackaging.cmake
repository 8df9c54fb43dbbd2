# The Debian package: `cpack -G DEB` in a build dir writes
# kad_<version>_amd64.deb with
#   /usr/bin/kad, its man page and bash completion (made from --help by
#     scripts/packaging/make_man.sh and make_completion.sh) and README.md
#     under /usr/share/doc/kad;
#   the embedder's files: /usr/include/kad, the static libraries,
#     /usr/lib/cmake/kad (find_package) and /usr/lib/pkgconfig/kad.pc;
#   the service: /usr/lib/systemd/system/kad.service and /etc/default/kad
#     (a conffile: KAD_OPTS, the node's flags).
# The packaging files live in scripts/packaging/; scripts/packaging/
# check_deb.sh builds the package and checks it (scripts/test.sh runs it
# on the Release build).
#
# The service files go to absolute paths (/etc), so they are a component
# of their own, excluded from a plain `cmake --install`: installing the
# library into a scratch prefix never writes to /etc.

set(KAD_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/scripts/packaging)

# The man page, from the program's own --help.
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/kad.1.gz
  COMMAND bash ${KAD_PACKAGING_DIR}/make_man.sh $<TARGET_FILE:kad>
          ${PROJECT_BINARY_DIR}/kad.1.gz ${PROJECT_VERSION}
  DEPENDS kad ${KAD_PACKAGING_DIR}/make_man.sh
  COMMENT "Writing the kad(1) man page from --help")
# Bash completion, from the same --help texts.
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/kad.bash-completion
  COMMAND bash ${KAD_PACKAGING_DIR}/make_completion.sh $<TARGET_FILE:kad>
          ${PROJECT_BINARY_DIR}/kad.bash-completion
  DEPENDS kad ${KAD_PACKAGING_DIR}/make_completion.sh
  COMMENT "Writing kad's bash completion from --help")
add_custom_target(kad_docs ALL DEPENDS ${PROJECT_BINARY_DIR}/kad.1.gz
                  ${PROJECT_BINARY_DIR}/kad.bash-completion)
install(FILES ${PROJECT_BINARY_DIR}/kad.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT bin)
install(FILES ${PROJECT_BINARY_DIR}/kad.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME kad COMPONENT bin)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT bin)

install(FILES ${KAD_PACKAGING_DIR}/kad.service
        DESTINATION lib/systemd/system COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${KAD_PACKAGING_DIR}/kad.default
        DESTINATION /etc/default RENAME kad
        COMPONENT service EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kad)
set(CPACK_PACKAGE_VENDOR "kad")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Kademlia DHT: node, command-line client and C++ library")
set(CPACK_PACKAGE_DESCRIPTION
    "kad runs a Kademlia distributed hash table node over UDP (kad node, \
shipped as the kad systemd service), stores and fetches records from the \
command line (kad put, kad get), and exports Prometheus metrics. The C++ \
library (find_package(kad), pkg-config kad) lets programs embed a node.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# One package with every component, the service's included.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL bin dev service)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # kad_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "kad developers <kad@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # The binary's Depends.
# What an embedder's build needs beside the binary's libraries.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "libabsl-dev, libuv1-dev, libsodium-dev, libxxhash-dev, liblmdb-dev, libspdlog-dev, pkg-config")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${KAD_PACKAGING_DIR}/conffiles ${KAD_PACKAGING_DIR}/postinst
    ${KAD_PACKAGING_DIR}/prerm ${KAD_PACKAGING_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
