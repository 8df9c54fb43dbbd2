# How kad's libraries are installed and exported for embedders.
#
# An embedder writes `find_package(kad)`, links `kad::dht` (or kad::runtime,
# kad::net_uv...) and includes `<kad/dht/node.h>`. The installed headers
# keep the tree's layout under include/kad/ (dht/, net/, storage/,
# runtime/), and since kad's own headers include each other as
# "dht/contact.h", an exported target puts both include/ and include/kad/ on
# its users' include path. The build tree mirrors this: build/include/kad/
# holds links to the module directories, so `<kad/dht/node.h>` works in-tree
# too (examples/ builds that way inside the tree).
#
# Only the headers a public header reaches are installed (the list given to
# kad_export_library); private ones (dht/wire_fields.h, dht/node_impl.h,
# storage/lmdb_txn.h...) are not. scripts/packaging/check_install.sh
# compiles every installed header against the install prefix alone, so a
# public header that starts including a private one fails CI.

include(GNUInstallDirs)

set(KAD_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/kad)
set(KAD_BUILD_INCLUDE_DIR ${PROJECT_BINARY_DIR}/include)

# kad_export_library(<target> <name> HEADERS <file>...)
# Makes <target> installable as kad::<name>: its include path works from the
# source tree, the build tree and the install prefix; an alias kad::<name>
# serves in-tree users; HEADERS (relative to the target's directory) are
# installed to include/kad/<dir>/.
function(kad_export_library target name)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "HEADERS")
  file(RELATIVE_PATH dir ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${KAD_BUILD_INCLUDE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/kad>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  add_library(kad::${name} ALIAS ${target})
  install(FILES ${arg_HEADERS}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kad/${dir}
          COMPONENT dev)
  file(MAKE_DIRECTORY ${KAD_BUILD_INCLUDE_DIR}/kad)
  if(NOT EXISTS ${KAD_BUILD_INCLUDE_DIR}/kad/${dir})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}
         ${KAD_BUILD_INCLUDE_DIR}/kad/${dir} SYMBOLIC)
  endif()
  set_property(GLOBAL APPEND PROPERTY KAD_EXPORTED_TARGETS ${target})
endfunction()

# Installs every library given to kad_export_library, the kadTargets export,
# kadConfig.cmake, kadConfigVersion.cmake and kad.pc. Call once, after the
# module directories.
function(kad_install_package)
  get_property(targets GLOBAL PROPERTY KAD_EXPORTED_TARGETS)
  install(TARGETS ${targets} EXPORT kadTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
  install(EXPORT kadTargets NAMESPACE kad:: FILE kadTargets.cmake
          DESTINATION ${KAD_INSTALL_CMAKEDIR} COMPONENT dev)

  include(CMakePackageConfigHelpers)
  configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/kadConfig.cmake.in
    ${PROJECT_BINARY_DIR}/kadConfig.cmake
    INSTALL_DESTINATION ${KAD_INSTALL_CMAKEDIR})
  # 0.x: a minor version may break the API, so only the same minor matches.
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/kadConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/kadConfig.cmake
                ${PROJECT_BINARY_DIR}/kadConfigVersion.cmake
          DESTINATION ${KAD_INSTALL_CMAKEDIR} COMPONENT dev)

  # kad.pc finds its prefix relative to itself, so the package works
  # wherever `cmake --install --prefix` puts it.
  file(RELATIVE_PATH KAD_PC_PREFIX_FROM_PCDIR
       ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/kad.pc.in
                 ${PROJECT_BINARY_DIR}/kad.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/kad.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endfunction()
