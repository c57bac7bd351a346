fn main() -> Result<(), Box<dyn std::error::Error>> {
    // go-plugin's own services (stdio, broker, controller): implemented in full.
    tonic_build::configure()
        .protoc_arg("--experimental_allow_proto3_optional")
        .build_client(false)
        .compile(&["proto/plugin.proto"], &["proto"])?;
    // Terraform's protocol 6.10 (Terraform 1.15): an RPC the provider does not
    // implement answers `Unimplemented`, as Go's generated stubs do. The
    // well-known `timestamp.proto` is vendored beside it, so no system include
    // directory is needed.
    tonic_build::configure()
        .protoc_arg("--experimental_allow_proto3_optional")
        .build_client(false)
        .generate_default_stubs(true)
        .compile(&["proto/tfplugin6.proto"], &["proto"])?;
    Ok(())
}
