# tensorboard_proto.cmake: the C++ of engine/formats/tensorboard_event.proto (TensorBoard's Event
# and Summary messages, event_file.h), generated at build time by protoc into generated/, with
# Debian's libprotobuf-dev and protobuf-compiler. Defines SAC_TENSORBOARD_PROTO_SOURCES (the
# generated .pb.cc to compile into the core) and SAC_GENERATED_DIR (where its header lies).
find_package(Protobuf REQUIRED)
set(SAC_GENERATED_DIR ${CMAKE_CURRENT_BINARY_DIR}/generated)
set(_sac_proto_dir ${CMAKE_CURRENT_SOURCE_DIR}/engine/formats)
set(SAC_TENSORBOARD_PROTO_SOURCES ${SAC_GENERATED_DIR}/tensorboard_event.pb.cc)
add_custom_command(OUTPUT ${SAC_TENSORBOARD_PROTO_SOURCES} ${SAC_GENERATED_DIR}/tensorboard_event.pb.h
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${SAC_GENERATED_DIR}
                   COMMAND protobuf::protoc --proto_path=${_sac_proto_dir}
                           --cpp_out=${SAC_GENERATED_DIR} ${_sac_proto_dir}/tensorboard_event.proto
                   DEPENDS ${_sac_proto_dir}/tensorboard_event.proto protobuf::protoc
                   COMMENT "Generating the C++ of tensorboard_event.proto" VERBATIM)
