import LinxLinux
import Testing
@Test func libnlLinks() { #expect(LinxLinux.libnlVersion.hasPrefix("3.")) }
