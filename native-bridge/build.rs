//! Compiles the control plane's .proto (shared with the service) with protox
//! (pure Rust), so building the bridge needs no `protoc`. Client stubs only.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "../service/proto/arrow_cache/control/v1/control.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["../service/proto"])?;
    tonic_prost_build::configure().build_client(true).build_server(false).compile_fds(descriptors)?;
    Ok(())
}
