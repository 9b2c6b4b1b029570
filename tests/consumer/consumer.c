/* Links against the installed library and calls into it. */
#include <stdio.h>

#include <iommu/alloc.h>

int
main(void)
{
	const struct iommu_allocator *a = iommu_default_allocator();
	void			     *p = a->ia_alloc(a->ia_ctx, 16);

	if (p == NULL)
		return 1;
	a->ia_free(a->ia_ctx, p, 16);
	printf("iommu consumer: linked\n");
	return 0;
}
