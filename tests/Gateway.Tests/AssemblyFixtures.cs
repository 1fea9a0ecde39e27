using TestInfrastructure;

// One Redis and one Postgres per test assembly, started once; tests receive them through constructor injection.
[assembly: AssemblyFixture(typeof(RedisFixture))]
[assembly: AssemblyFixture(typeof(PostgresFixture))]
