namespace Backend.Organizations;

internal static class OrganizationsExtensions
{
    public static IServiceCollection AddOrganizations(this IServiceCollection services) => services.AddSingleton<OrgStore>().AddSingleton<InvitationStore>();
}
