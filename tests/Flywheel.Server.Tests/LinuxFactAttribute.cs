namespace Flywheel.Server.Tests;

/// <summary>A fact that needs Linux (mkfifo and the like); elsewhere it is skipped, saying so.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "this test makes a named pipe with mkfifo, which needs Linux";
    }
}
