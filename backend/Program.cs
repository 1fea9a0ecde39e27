var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();
app.MapGet("/health", () => "ok");
app.Run();

public partial class Program;
