//! Compiles the control plane's .proto with protox (pure Rust), so building
//! needs no `protoc` on the machine. The only place the .proto is compiled:
//! nodes and the JNI bridge both use these stubs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/arrow_cache/control/v1/control.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["proto"])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
