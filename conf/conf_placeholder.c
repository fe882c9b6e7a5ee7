/* conf_placeholder.c - removed when the rule engine lands. */
int conf__placeholder(void);
int
conf__placeholder(void)
{
	return 0;
}
