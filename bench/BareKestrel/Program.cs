// Usage: dotnet bare-kestrel.dll --urls http://127.0.0.1:PORT --body '<bytes /health returns>'
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var body = System.Text.Encoding.UTF8.GetBytes(builder.Configuration["body"] ?? "{\"status\":\"healthy\"}");
var app = builder.Build();
app.Run(ctx =>
{
    ctx.Response.ContentType = "application/json";
    ctx.Response.ContentLength = body.Length;
    return ctx.Response.Body.WriteAsync(body).AsTask();
});
app.Run();
