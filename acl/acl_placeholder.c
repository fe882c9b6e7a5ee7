/* acl_placeholder.c - removed when the rule engine lands. */
int acl__placeholder(void);
int
acl__placeholder(void)
{
	return 0;
}
