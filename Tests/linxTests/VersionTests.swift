import Foundation
import Testing

/// Runs the built `linx` binary, as an operator would.
@Test("linx version prints the libnl it links")
func versionRuns() throws {
    // The test bundle sits in the same build folder as the linx binary.
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("linx")
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build linx first (swift build)")
    let process = Process()
    process.executableURL = binary
    process.arguments = ["version"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 0)
    #expect(output.contains("libnl 3."))
}
