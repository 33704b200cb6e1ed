import LinxKernelSim
import LinxReconcile
import Testing

func prefix(_ text: String) -> IPPrefix { try! IPPrefix(text) }
func ip(_ text: String) -> IPAddress { try! IPAddress(text) }

func addr(_ text: String, on ifindex: Int32, proto: UInt8? = nil) -> InterfaceAddress {
    let parts = text.split(separator: "/")
    return InterfaceAddress(ifindex: ifindex, address: ip(String(parts[0])), prefixLength: Int(parts[1])!, proto: proto)
}

/// Sends one request through the backend and returns its result.
func send(_ kernel: SimKernel, _ request: RtnlRequest, in scope: NetnsScope = .current) async -> Result<Void, KernelError> {
    let results = await kernel.execute([request], in: scope, stopOnError: false)
    return results[0]
}

/// The errno a failed result carries, nil on success.
func errno(_ result: Result<Void, KernelError>) -> Errno? {
    if case .failure(let error) = result { return error.errno }
    return nil
}

/// Runs a throwing call and returns the errno it failed with (nil when it succeeded).
func errno<T>(_ body: () async throws(KernelError) -> T) async -> Errno? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error.errno
    }
}

import SystemPackage

/// True when one request through the backend succeeded.
func ok(_ kernel: SimKernel, _ request: RtnlRequest, in scope: NetnsScope = .current) async -> Bool {
    errno(await send(kernel, request, in: scope)) == nil
}
