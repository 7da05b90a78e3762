# iscsi-targetd and the daemon-only libraries (logging, login policy), which
# daemon/CMakeLists.txt does not list as parts of their own.
add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/log ${CMAKE_CURRENT_BINARY_DIR}/log)
add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/policy ${CMAKE_CURRENT_BINARY_DIR}/policy)

add_executable(iscsi-targetd ${CMAKE_CURRENT_LIST_DIR}/main.cpp)
target_link_libraries(iscsi-targetd PRIVATE iscsi_net iscsi_kmod_glue CLI11::CLI11
  # The D-Bus service (dbus/) links in when it is built; the daemon also runs without it.
  $<$<TARGET_EXISTS:iscsi_dbus_service>:iscsi_dbus_service>)
target_compile_definitions(iscsi-targetd PRIVATE $<$<TARGET_EXISTS:iscsi_dbus_service>:ISCSI_WITH_DBUS>)
install(TARGETS iscsi-targetd RUNTIME DESTINATION sbin)
