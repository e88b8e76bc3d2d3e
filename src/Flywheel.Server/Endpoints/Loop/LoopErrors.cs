using Flywheel.Server.Endpoints.OpenAi;
using Flywheel.Store;
using Microsoft.AspNetCore.Http;

namespace Flywheel.Server.Endpoints.Loop;

/// <summary>Errors shared by the feedback and dataset endpoints, in the OpenAI shape.</summary>
public static class LoopErrors
{
    public static IResult NoStore() =>
        OpenAiError.NotFound("this server keeps no store; start it with --data DIR or --store URL to record feedback and serve datasets");

    public static IResult StoreFailed(StoreException e) =>
        OpenAiError.Unavailable($"the store is unavailable: {e.Message}");
}
