import LinxConformance
import Testing
